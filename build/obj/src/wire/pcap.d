build/obj/src/wire/pcap.o: src/wire/pcap.c src/wire/wire.h
src/wire/wire.h:
