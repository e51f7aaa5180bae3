"""A child process: we write to its stdin, it answers in upper case and exits 7."""

import sys

import progkit
from twisted.internet import protocol

SCRIPT = "import sys; sys.stdout.write(sys.stdin.read().upper()); sys.exit(7)"
INPUT = b"hello child"

kit = progkit.start()
reactor = kit.reactor


class Child(protocol.ProcessProtocol):
    def __init__(self):
        self.output = b""

    def connectionMade(self):
        self.transport.write(INPUT)
        self.transport.closeStdin()

    def outReceived(self, data):
        self.output += data

    def processEnded(self, reason):
        kit.program["output"] = self.output.decode()
        kit.program["exit_code"] = reason.value.exitCode
        kit.done()


kit.expect(1)
reactor.callWhenRunning(
    reactor.spawnProcess, Child(), sys.executable, [sys.executable, "-c", SCRIPT], env=None
)
kit.run()
