"""A program whose timer runs C code that holds the interpreter lock for seconds.

    python locked.py MARKER

One second in, ``match_the_log`` writes MARKER, then runs a regular expression
that backtracks for several seconds inside the regex engine, which never
releases the GIL: no other Python thread of the process runs meanwhile.
"""

import re
import sys

from twisted.internet import reactor

PATTERN = re.compile(r"(a+)+$")


def match_the_log():
    with open(sys.argv[1], "w") as marker:
        marker.write("blocked")
    PATTERN.match("a" * 27 + "b")  # the blocking line
    reactor.stop()


reactor.callLater(1.0, match_the_log)
reactor.run()
