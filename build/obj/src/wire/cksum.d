build/obj/src/wire/cksum.o: src/wire/cksum.c src/wire/wire.h
src/wire/wire.h:
