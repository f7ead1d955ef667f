build/obj/src/core/module.o: src/core/module.c src/core/kern.h \
 include/vimage/net.h include/vimage/vimage.h include/vimage/vimage.h \
 src/net/if_var.h src/core/kern.h src/netinet/inet.h src/route/fib.h \
 src/route/lpm.h src/wire/wire.h src/socket/socket_var.h \
 include/vimage/socket.h
src/core/kern.h:
include/vimage/net.h:
include/vimage/vimage.h:
include/vimage/vimage.h:
src/net/if_var.h:
src/core/kern.h:
src/netinet/inet.h:
src/route/fib.h:
src/route/lpm.h:
src/wire/wire.h:
src/socket/socket_var.h:
include/vimage/socket.h:
