build/obj/src/wire/eth.o: src/wire/eth.c src/wire/wire.h
src/wire/wire.h:
