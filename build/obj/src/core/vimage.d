build/obj/src/core/vimage.o: src/core/vimage.c src/core/kern.h \
 include/vimage/net.h include/vimage/vimage.h include/vimage/vimage.h
src/core/kern.h:
include/vimage/net.h:
include/vimage/vimage.h:
include/vimage/vimage.h:
