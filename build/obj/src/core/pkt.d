build/obj/src/core/pkt.o: src/core/pkt.c src/core/kern.h \
 include/vimage/net.h include/vimage/vimage.h include/vimage/vimage.h
src/core/kern.h:
include/vimage/net.h:
include/vimage/vimage.h:
include/vimage/vimage.h:
