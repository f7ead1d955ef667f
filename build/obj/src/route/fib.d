build/obj/src/route/fib.o: src/route/fib.c src/route/fib.h \
 src/core/kern.h include/vimage/net.h include/vimage/vimage.h \
 include/vimage/vimage.h src/route/lpm.h src/net/if_var.h
src/route/fib.h:
src/core/kern.h:
include/vimage/net.h:
include/vimage/vimage.h:
include/vimage/vimage.h:
src/route/lpm.h:
src/net/if_var.h:
