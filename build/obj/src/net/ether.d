build/obj/src/net/ether.o: src/net/ether.c src/net/if_var.h \
 src/core/kern.h include/vimage/net.h include/vimage/vimage.h \
 include/vimage/vimage.h src/netinet/inet.h src/route/fib.h \
 src/route/lpm.h src/wire/wire.h
src/net/if_var.h:
src/core/kern.h:
include/vimage/net.h:
include/vimage/vimage.h:
include/vimage/vimage.h:
src/netinet/inet.h:
src/route/fib.h:
src/route/lpm.h:
src/wire/wire.h:
