build/obj/src/netinet/ip_frag.o: src/netinet/ip_frag.c src/netinet/inet.h \
 src/core/kern.h include/vimage/net.h include/vimage/vimage.h \
 include/vimage/vimage.h src/net/if_var.h src/route/fib.h src/route/lpm.h \
 src/wire/wire.h
src/netinet/inet.h:
src/core/kern.h:
include/vimage/net.h:
include/vimage/vimage.h:
include/vimage/vimage.h:
src/net/if_var.h:
src/route/fib.h:
src/route/lpm.h:
src/wire/wire.h:
