#!/usr/bin/env python3
"""A name server for tests: answers every A query with 127.0.0.1 after DELAY seconds (and every
other query with no records), on ADDRESS:53 over UDP, until killed. Loopback only.

    python3 slow_dns.py ADDRESS DELAY
"""
import socket
import struct
import sys
import threading
import time


def answer(query):
    ident, _flags, questions = struct.unpack("!HHH", query[:6])
    end = 12
    while query[end] != 0:  # the question's name, label by label
        end += query[end] + 1
    qtype = struct.unpack("!H", query[end + 1:end + 3])[0]
    question = query[12:end + 5]
    is_a = qtype == 1
    header = struct.pack("!HHHHHH", ident, 0x8180, 1, 1 if is_a else 0, 0, 0)
    record = struct.pack("!HHHLH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")
    return header + question + (record if is_a else b"")


def main():
    address, delay = sys.argv[1], float(sys.argv[2])
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind((address, 53))
    while True:
        query, client = server.recvfrom(512)

        def reply(query=query, client=client):
            time.sleep(delay)
            server.sendto(answer(query), client)

        threading.Thread(target=reply, daemon=True).start()


if __name__ == "__main__":
    main()
