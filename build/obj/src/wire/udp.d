build/obj/src/wire/udp.o: src/wire/udp.c src/wire/wire.h
src/wire/wire.h:
