build/obj/src/wire/icmp.o: src/wire/icmp.c src/wire/wire.h
src/wire/wire.h:
