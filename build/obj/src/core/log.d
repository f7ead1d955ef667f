build/obj/src/core/log.o: src/core/log.c src/core/kern.h \
 include/vimage/net.h include/vimage/vimage.h include/vimage/vimage.h
src/core/kern.h:
include/vimage/net.h:
include/vimage/vimage.h:
include/vimage/vimage.h:
