build/obj/src/wire/arp.o: src/wire/arp.c src/wire/wire.h
src/wire/wire.h:
