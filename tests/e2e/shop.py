"""A small Twisted shop for the end-to-end test: a server, a customer, timers.

It runs until it is stopped, and writes its pid to the file given as its
first argument (the test checks the program is gone after quitting the TUI).
Every name here is what the test looks for on the screen.
"""

from __future__ import annotations

import os
import sys

from twisted.internet import reactor
from twisted.internet.protocol import ClientFactory, Factory, Protocol
from twisted.internet.task import LoopingCall


class ShopProtocol(Protocol):
    def dataReceived(self, data: bytes) -> None:
        self.transport.write(b"price:" + data)


class CustomerProtocol(Protocol):
    def connectionMade(self) -> None:
        self.browse()

    def browse(self) -> None:
        self.transport.write(b"apples\n")
        reactor.callLater(0.3, self.browse)


class Shop:
    def __init__(self) -> None:
        self.stock = 0

    def restock(self) -> None:
        self.stock += 1

    def expire_carts(self) -> None:
        print("carts expired", flush=True)


def main() -> None:
    with open(sys.argv[1], "w") as pidfile:
        pidfile.write(str(os.getpid()))
    shop = Shop()
    port = reactor.listenTCP(0, Factory.forProtocol(ShopProtocol), interface="127.0.0.1")
    customers = ClientFactory()
    customers.protocol = CustomerProtocol
    reactor.connectTCP("127.0.0.1", port.getHost().port, customers)
    LoopingCall(shop.restock).start(0.5)
    reactor.callLater(600, shop.expire_carts)
    print(f"shop open on port {port.getHost().port}", flush=True)
    reactor.run()
    print("shop closed", flush=True)


if __name__ == "__main__":
    main()
