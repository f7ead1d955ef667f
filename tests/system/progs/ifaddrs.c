/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ifaddrs: print every interface getifaddrs(3) returns as "NAME" lines,
 * and every IPv4 address as "NAME ADDR" lines.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int main(void)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa)) {
		perror("getifaddrs");
		return 1;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_PACKET)
			printf("%s\n", i->ifa_name);
		if (i->ifa_addr->sa_family == AF_INET) {
			char b[INET_ADDRSTRLEN];

			inet_ntop(AF_INET,
				  &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
				  b, sizeof(b));
			printf("%s %s\n", i->ifa_name, b);
		}
	}
	freeifaddrs(ifa);
	return 0;
}
