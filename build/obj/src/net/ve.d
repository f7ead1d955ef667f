build/obj/src/net/ve.o: src/net/ve.c src/net/if_var.h src/core/kern.h \
 include/vimage/net.h include/vimage/vimage.h include/vimage/vimage.h
src/net/if_var.h:
src/core/kern.h:
include/vimage/net.h:
include/vimage/vimage.h:
include/vimage/vimage.h:
