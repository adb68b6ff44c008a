import MCPParsing
import Testing

/// Parses `input` in one feed plus `finish()`.
private func parseAll(_ input: [UInt8], maxEventBytes: Int = 16 << 20) -> [ParsedSSEEvent] {
    var parser = SSEParser(maxEventBytes: maxEventBytes)
    return parser.feed(input) + parser.finish()
}

private func parseAll(_ input: String, maxEventBytes: Int = 16 << 20) -> [ParsedSSEEvent] {
    parseAll(bytes(input), maxEventBytes: maxEventBytes)
}

private func parseChunks(_ pieces: [ArraySlice<UInt8>], maxEventBytes: Int = 16 << 20) -> [ParsedSSEEvent] {
    var parser = SSEParser(maxEventBytes: maxEventBytes)
    var events: [ParsedSSEEvent] = []
    for piece in pieces { events += parser.feed(piece) }
    return events + parser.finish()
}

@Suite struct SSESpecExampleTests {
    @Test func stockTicker() {
        let events = parseAll("data: YHOO\ndata: +2\ndata: 10\n\n")
        #expect(events == [ParsedSSEEvent(index: 0, offset: 0, data: "YHOO\n+2\n10")])
    }

    @Test func commentsIdsAndLeadingSpaces() {
        let input = ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n"
        let events = parseAll(input)
        #expect(events == [
            ParsedSSEEvent(index: 0, offset: offset(of: "data: first", in: input)!, id: "1", data: "first event"),
            ParsedSSEEvent(index: 1, offset: offset(of: "data:second", in: input)!, id: "", data: "second event"),
            ParsedSSEEvent(index: 2, offset: offset(of: "data:  third", in: input)!, data: " third event"),
        ])
    }

    @Test func emptyDataLinesAndUnterminatedLastEvent() {
        let input = "data\n\ndata\ndata\n\ndata:"
        var parser = SSEParser()
        let events = parser.feed(bytes(input))
        #expect(events == [
            ParsedSSEEvent(index: 0, offset: 0, data: ""),
            ParsedSSEEvent(index: 1, offset: 6, data: "\n"),
        ])
        // The spec discards the last block; the recorder reports it as incomplete.
        #expect(parser.finish() == [ParsedSSEEvent(index: 2, offset: 17, data: "", complete: false)])
    }

    @Test func spaceAfterColonIsOptional() {
        let events = parseAll("data:test\n\ndata: test\n\n")
        #expect(events.map(\.data) == ["test", "test"])
        #expect(events.map(\.offset) == [0, 11])
    }

    @Test func eventTypes() {
        let input = "event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n"
        let events = parseAll(input)
        #expect(events.map(\.event) == ["add", "remove", "add"])
        #expect(events.map(\.data) == ["73857293", "2153", "113411"])
        #expect(events.map(\.index) == [0, 1, 2])
        #expect(events.map(\.offset) == [0, offset(of: "event: remove", in: input)!, offset(of: "event: add\ndata: 113411", in: input)!])
    }
}

@Suite struct SSEFieldTests {
    @Test func retryOnlyWhenAllDigits() {
        let events = parseAll("retry: 3000\ndata: a\n\nretry: 30a0\ndata: b\n\nretry:\ndata: c\n\n")
        #expect(events.map(\.retry) == [3000, nil, nil])
    }

    @Test func idWithNULIsIgnored() {
        let events = parseAll("id: a\u{0}b\ndata: x\n\nid: 7\nid: 8\ndata: y\n\n")
        #expect(events.map(\.id) == [nil, "8"])
    }

    @Test func idOnlyEventTypeOnlyAndRetryOnlyBlocksAreRecorded() {
        let events = parseAll("id: 42\n\nevent: ping\n\nretry: 10\n\n: just a comment\n\nfoo: bar\n\n")
        #expect(events == [
            ParsedSSEEvent(index: 0, offset: 0, id: "42", data: ""),
            ParsedSSEEvent(index: 1, offset: 8, event: "ping", data: ""),
            ParsedSSEEvent(index: 2, offset: 21, data: "", retry: 10),
        ])
    }

    @Test func fieldNamesAreCaseSensitiveAndValuesKeepColons() {
        let events = parseAll("Data: nope\ndata: a:b: c\nevent\n\n")
        #expect(events == [ParsedSSEEvent(index: 0, offset: 0, event: "", data: "a:b: c")])
    }

    @Test func blockStartsAtItsFirstLineEvenAComment() {
        let input = "\n\n: keepalive\ndata: x\n\n"
        #expect(parseAll(input) == [ParsedSSEEvent(index: 0, offset: 2, data: "x")])
    }

    @Test func invalidUTF8IsDecodedLossily() {
        let input: [UInt8] = bytes("data: ") + [0xFF, 0xC3, 0x28] + bytes("\nid: ") + [0xFE] + bytes("\n\n")
        let events = parseAll(input)
        #expect(events == [ParsedSSEEvent(index: 0, offset: 0, id: "\u{FFFD}", data: "\u{FFFD}\u{FFFD}(", dataLength: 3)])
    }
}

@Suite struct SSELineBreakTests {
    @Test func crLfAndCrlfMix() {
        let input = "data: a\r\n\r\ndata: b\r\rdata: c\n\nid: 5\r\n\r\ndata: d\rdata: e\r\n\n"
        let events = parseAll(input)
        #expect(events.map(\.data) == ["a", "b", "c", "", "d\ne"])
        #expect(events[3].id == "5")
        #expect(events.map(\.offset) == [
            0, offset(of: "data: b", in: input)!, offset(of: "data: c", in: input)!,
            offset(of: "id: 5", in: input)!, offset(of: "data: d", in: input)!,
        ])
    }

    @Test func crlfSplitAcrossChunksIsOneLineBreak() {
        var parser = SSEParser()
        #expect(parser.feed(bytes("data: x\r")).isEmpty)
        #expect(parser.feed(bytes("\n")).isEmpty)  // not a blank line
        let events = parser.feed(bytes("data: y\r")) + parser.feed(bytes("\n\r")) + parser.feed(bytes("\n"))
        #expect(events == [ParsedSSEEvent(index: 0, offset: 0, data: "x\ny")])
        #expect(parser.finish().isEmpty)
    }

    @Test func bomAtStartIsSkippedButCountsInOffsets() {
        #expect(parseAll("\u{FEFF}data: a\n\n") == [ParsedSSEEvent(index: 0, offset: 3, data: "a")])
        // Only at the start: later, it is part of a field name.
        #expect(parseAll("data: a\n\n\u{FEFF}data: b\n\n").map(\.data) == ["a"])
    }

    @Test func partialBOMIsContent() {
        let input: [UInt8] = [0xEF, 0xBB, 0x0A] + bytes("data:x\n\n")
        for pieces in splittings(input) {
            #expect(parseChunks(pieces) == [ParsedSSEEvent(index: 0, offset: 0, data: "x")])
        }
    }
}

@Suite struct SSEChunkingTests {
    static let streams: [String] = [
        "\u{FEFF}: hello\r\n\r\nevent: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\r\nid: 1\r\n\r\n"
            + "data: line one\rdata: line two\r\rretry: 250\n\n:comment\nid: only\n\ndata: tail",
        "data: é€😀 multi-byte\n\nevent:x\ndata\n\n\n\ndata:  two spaces\r\n\r\nid\ndata: caf\u{E9}\r\r",
        "data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\n\r\n",
    ]

    @Test(arguments: streams)
    func everySplitGivesTheSameEvents(stream: String) {
        let input = bytes(stream)
        let expected = parseAll(input)
        #expect(!expected.isEmpty)
        for pieces in splittings(input) {
            #expect(parseChunks(pieces) == expected)
        }
    }

    @Test(arguments: streams)
    func everyThreeWaySplitGivesTheSameEvents(stream: String) {
        let input = bytes(stream)
        let expected = parseAll(input)
        for i in 0...input.count {
            for j in i...input.count {
                let events = parseChunks([input[..<i], input[i..<j], input[j...]])
                if events != expected {
                    Issue.record("split at \(i), \(j) differs")
                    return
                }
            }
        }
    }

    @Test func offsetsLocateEachEventInTheStream() {
        let input = bytes(Self.streams[0])
        let events = parseAll(input)
        #expect(events.count == 5)
        #expect(events.last?.complete == false)
        for event in events.dropLast() { #expect(event.complete) }
        for event in events {
            let line = input[Int(event.offset)...].prefix(4)
            #expect(["even", "data", "retr", ":com"].contains(text(Array(line))), "event \(event.index) at \(event.offset)")
        }
    }
}

@Suite struct SSELimitTests {
    @Test func truncatesDataButCountsItAll() {
        let events = parseAll("data: 0123456789\n\ndata: ab\ndata: cd\n\ndata: ok\n\n", maxEventBytes: 8)
        #expect(events == [
            ParsedSSEEvent(index: 0, offset: 0, data: "01234567", dataLength: 10, truncated: true),
            ParsedSSEEvent(index: 1, offset: 18, data: "ab\ncd", dataLength: 5),
            ParsedSSEEvent(index: 2, offset: 37, data: "ok"),
        ])
        let lines = parseAll("data: ab\ndata: cd\n\n", maxEventBytes: 4)
        #expect(lines == [ParsedSSEEvent(index: 0, offset: 0, data: "ab\nc", dataLength: 5, truncated: true)])
    }

    @Test func truncationCutsAtAUTF8Boundary() {
        // "a" (1 byte), "é" (2), "€" (3): the first 4 bytes end inside "€".
        let events = parseAll("data: aé€\n\n", maxEventBytes: 4)
        #expect(events == [ParsedSSEEvent(index: 0, offset: 0, data: "aé", dataLength: 6, truncated: true)])
        let exact = parseAll("data: aé€\n\n", maxEventBytes: 6)
        #expect(exact == [ParsedSSEEvent(index: 0, offset: 0, data: "aé€")])
    }

    @Test func truncationIsTheSameWhateverTheChunking() {
        let input = bytes("data: \(String(repeating: "x€", count: 20))\ndata: more\n\nid: 1\ndata: y\n\n")
        let expected = parseAll(input, maxEventBytes: 17)
        #expect(expected.first?.truncated == true)
        #expect(expected.first?.dataLength == 20 * 4 + 5)
        for pieces in splittings(input) {
            #expect(parseChunks(pieces, maxEventBytes: 17) == expected)
        }
    }
}

@Suite struct SSEFinishTests {
    @Test func incompleteEventAtEndOfStream() {
        var parser = SSEParser()
        let events = parser.feed(bytes("data: a\n\nevent: progress\ndata: partial\nid: 9"))
        #expect(events == [ParsedSSEEvent(index: 0, offset: 0, data: "a")])
        #expect(parser.finish() == [ParsedSSEEvent(index: 1, offset: 9, id: "9", event: "progress", data: "partial", complete: false)])
    }

    @Test func nothingPending() {
        var parser = SSEParser()
        _ = parser.feed(bytes("data: a\n\n: trailing comment\n"))
        #expect(parser.finish().isEmpty)
        var empty = SSEParser()
        #expect(empty.finish().isEmpty)
    }
}

/// Lines are searched for their end eight bytes at a time: a CR, LF or CRLF at any offset of a
/// word (and bytes that look alike: 0x0B, 0x0C, 0x8A, 0x8D, in valid UTF-8) must end the line exactly there.
@Suite struct SSELineEndTests {
    @Test(arguments: 0..<17)
    func lineBreaksAtEveryOffsetOfAWord(padding: Int) {
        let pad = String(repeating: "a", count: padding) + "\u{0B}\u{0C}\u{20A}\u{34D}"
        for brk in ["\n", "\r", "\r\n"] {
            let input = "data: " + pad + brk + "data: " + pad + "x" + brk + brk + "data: z" + brk + brk
            let events = parseAll(input)
            #expect(events.map(\.data) == [pad + "\n" + pad + "x", "z"], "padding \(padding), break \(Array(brk.utf8))")
            for pieces in splittings(bytes(input)) {
                #expect(parseChunks(pieces).map(\.data) == events.map(\.data))
            }
        }
    }
}

/// An event's data over `keepDataUpTo` is not kept: skimmed for JSON-RPC as it arrives.
@Suite struct SSEStreamedDataTests {
    static func parse(_ input: [UInt8], keep: Int, maxEventBytes: Int = 16 << 20, piece: Int) -> [ParsedSSEEvent] {
        var parser = SSEParser(maxEventBytes: maxEventBytes, keepDataUpTo: keep)
        var events: [ParsedSSEEvent] = []
        var i = 0
        while i < input.count {
            events += parser.feed(input[i..<min(input.count, i + piece)])
            i += piece
        }
        return events + parser.finish()
    }

    /// A result of about 1 MB as one event, its JSON over several `data:` lines.
    static let result: String = {
        let text = String(repeating: #"line \"q\" é\n"#, count: 60_000)
        return #"{"jsonrpc":"2.0","id":"r-1","result":{"content":[{"type":"text","#
            + "\n" + #""text":""# + text + #""}]}}"#
    }()

    @Test(arguments: [7, 4096, 65_536])
    func aLargeJSONEventIsSkimmedNotKept(piece: Int) throws {
        let lines = Self.result.split(separator: "\n", omittingEmptySubsequences: false).map { "data: " + $0 }.joined(separator: "\r\n")
        let input = bytes("event: message\r\n" + lines + "\r\n\r\ndata: {\"small\":1}\n\n")
        let events = Self.parse(input, keep: 4096, piece: piece)
        #expect(events.count == 2)
        let large = events[0]
        #expect(large.streamed && large.data.isEmpty && !large.truncated && large.event == "message")
        #expect(large.dataLength == Self.result.utf8.count)
        #expect(large.skimmed == JSONRPCSkimmer.summarize(bytes: bytes(Self.result)))
        #expect(try large.skimmed?.get().first?.id == .string("r-1"))
        #expect(!events[1].streamed && events[1].data == "{\"small\":1}" && events[1].skimmed == nil, "the next event starts afresh")
    }

    @Test func largeDataThatIsNotJSONIsCountedOnly() {
        let text = String(repeating: "plain text, not JSON ", count: 1000)
        let events = Self.parse(bytes("data: " + text + "\n\n"), keep: 1024, piece: 500)
        #expect(events.count == 1 && events[0].streamed && events[0].skimmed == nil && events[0].data.isEmpty)
        #expect(events[0].dataLength == text.utf8.count && !events[0].truncated)
    }

    @Test func overTheEventLimitItIsTruncatedAndNotSkimmed() {
        let oneLine = Self.result.split(separator: "\n").joined()
        let events = Self.parse(bytes("data: " + oneLine + "\n\n"), keep: 4096, maxEventBytes: 100_000, piece: 8192)
        #expect(events.count == 1 && events[0].streamed && events[0].truncated && events[0].skimmed == nil)
        #expect(events[0].dataLength == oneLine.utf8.count)
    }
}
