build/obj/src/core/timer.o: src/core/timer.c src/core/kern.h \
 include/vimage/net.h include/vimage/vimage.h include/vimage/vimage.h
src/core/kern.h:
include/vimage/net.h:
include/vimage/vimage.h:
include/vimage/vimage.h:
