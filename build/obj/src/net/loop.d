build/obj/src/net/loop.o: src/net/loop.c src/net/if_var.h src/core/kern.h \
 include/vimage/net.h include/vimage/vimage.h include/vimage/vimage.h
src/net/if_var.h:
src/core/kern.h:
include/vimage/net.h:
include/vimage/vimage.h:
include/vimage/vimage.h:
