build/obj/src/core/world.o: src/core/world.c src/core/kern.h \
 include/vimage/net.h include/vimage/vimage.h include/vimage/vimage.h \
 src/net/if_var.h src/core/kern.h
src/core/kern.h:
include/vimage/net.h:
include/vimage/vimage.h:
include/vimage/vimage.h:
src/net/if_var.h:
src/core/kern.h:
