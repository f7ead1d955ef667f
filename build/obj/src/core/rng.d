build/obj/src/core/rng.o: src/core/rng.c src/core/kern.h \
 include/vimage/net.h include/vimage/vimage.h include/vimage/vimage.h
src/core/kern.h:
include/vimage/net.h:
include/vimage/vimage.h:
include/vimage/vimage.h:
