build/obj/src/route/lpm.o: src/route/lpm.c src/route/lpm.h
src/route/lpm.h:
