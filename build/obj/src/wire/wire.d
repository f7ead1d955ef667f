build/obj/src/wire/wire.o: src/wire/wire.c src/wire/wire.h
src/wire/wire.h:
