build/obj/src/wire/ipv4.o: src/wire/ipv4.c src/wire/wire.h
src/wire/wire.h:
