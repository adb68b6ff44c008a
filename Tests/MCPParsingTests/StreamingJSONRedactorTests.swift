import MCPParsing
import RecorderJSON
import Testing

private func redactAll(_ input: [UInt8], _ redactor: Redactor = testRedactor, maxValueBytes: Int = 1 << 20) -> (output: [UInt8], redactions: Int) {
    var stream = redactor.makeStreamRedactor(maxValueBytes: maxValueBytes)
    let out = stream.feed(input) + stream.finish()
    return (out, stream.redactions)
}

private func redactChunks(_ pieces: [ArraySlice<UInt8>], _ redactor: Redactor = testRedactor) -> [UInt8] {
    var stream = redactor.makeStreamRedactor()
    var out: [UInt8] = []
    for piece in pieces { out += stream.feed(piece) }
    return out + stream.finish()
}

/// The fingerprint as it appears in redacted JSON text.
private func quoted(_ value: String) -> String {
    "\"" + testRedactor.fingerprint(bytes(value)) + "\""
}

@Suite struct StreamingRedactionTests {
    static let noMatch: [[UInt8]] = [
        bytes(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"login","arguments":{"user":"bob","note":"my password: x"}}}"#),
        bytes("event: message\r\ndata: {\"a\":[1,2,{\"b\":\"c\\\"d\\\\\"}]}\r\n\r\n: comment \"pass\": 1\n\n"),
        bytes(#"[{"passwords":1},{"tokenizer":"x"},"password",["token"],{"x":"token"}]"#),
        [0xFF, 0xFE, 0x22, 0x70, 0xC3, 0x28, 0x22, 0x3A, 0x80, 0x22, 0x5C] + bytes(" garbage {{{ ]]] \"unterminated\n"),
        bytes("not json at all: \"quoted\" : value, [ brackets } and \\ backslashes"),
    ]

    @Test(arguments: noMatch)
    func inputWithoutKeysPassesUnchangedWhateverTheChunking(input: [UInt8]) {
        let (out, count) = redactAll(input)
        #expect(out == input)
        #expect(count == 0)
        for pieces in splittings(input) {
            #expect(redactChunks(pieces) == input)
        }
    }

    static let redacted: [String] = [
        #"{"jsonrpc":"2.0","id":1,"params":{"arguments":{"password":"hunter2","user":"bob"}}}"#,
        #"{"a":{"b":{"Token":"t\"q\\x\u00e9\ud83d\ude00"}},"list":[{"api_key":12.5e3},{"secret":true},{"SECRET":null}]}"#,
        "{\"client_secret\" :\n  {\"a\": [1, {\"b\": \"}]\"}], \"c\": {}},\n \"x\": 1}",
        "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"params\":{\"arguments\":{\"password\":\"hunter2\"}}}\n\ndata: {\"token\":\"abc\n\ndata: {\"token\":abc}\n\n",
        #"[{"access_token":"x","refresh_token":"y"},{"id_token":[1,[2,[3]]]},{"passwd":-0.5}]"#,
    ]

    @Test(arguments: redacted)
    func everySplitGivesTheOneShotOutput(input: String) {
        let input = bytes(input)
        let (expected, count) = redactAll(input)
        #expect(count > 0)
        #expect(expected != input)
        for pieces in splittings(input) {
            #expect(redactChunks(pieces) == expected)
        }
    }

    @Test(arguments: redacted.prefix(2) + redacted.suffix(1))
    func compactJSONMatchesTheValueRedactor(input: String) throws {
        let (out, _) = redactAll(bytes(input))
        let (value, changed) = testRedactor.redact(json: try JSONParser.parse(input))
        #expect(changed)
        #expect(text(out) == value.serialized())
    }

    @Test func sseStream() {
        let input = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"params\":{\"arguments\":{\"password\":\"hunter2\"}}}\n\n"
        let (out, count) = redactAll(bytes(input))
        #expect(count == 1)
        #expect(text(out) == "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"params\":{\"arguments\":{\"password\":\(quoted("hunter2"))}}}\n\n")
        var parser = SSEParser()
        let events = parser.feed(out) + parser.finish()
        #expect(events.count == 1)
        #expect((try? JSONParser.parse(events[0].data)) != nil)
    }

    @Test func nestedKeys() {
        let input = #"{"outer":{"inner":[{"deep":{"token":"a"}}],"password":"b"},"secret":"c"}"#
        let (out, count) = redactAll(bytes(input))
        #expect(count == 3)
        #expect(text(out) == #"{"outer":{"inner":[{"deep":{"token":"# + quoted("a") + #"}}],"password":"# + quoted("b") + #"},"secret":"# + quoted("c") + "}")
    }

    @Test func keysWithEscapes() {
        let input = #"{"pass\u0077ord":"x","P\u0041SSWD":"y","to\"ken":"z","api\/key":"w"}"#
        let (out, count) = redactAll(bytes(input))
        #expect(count == 2)
        #expect(text(out) == #"{"pass\u0077ord":"# + quoted("x") + #","P\u0041SSWD":"# + quoted("y") + #","to\"ken":"z","api\/key":"w"}"#)
    }

    @Test func redactedObjectValueIsFingerprintedOverItsBytes() {
        let value = "{ \"a\" : [1, {\"b\": \"}\\\"]\"}] }"
        let input = "{\"client_secret\": \(value), \"after\": \"kept\"}"
        let (out, count) = redactAll(bytes(input))
        #expect(count == 1)
        #expect(text(out) == "{\"client_secret\": \(quoted(value)), \"after\": \"kept\"}")
    }

    @Test func scalarsAndLiterals() {
        let (out, _) = redactAll(bytes(#"{"token":-12.5e+3,"secret":false,"password":null,"apikey" : 7 }"#))
        #expect(text(out) == #"{"token":"# + quoted("-12.5e+3") + #","secret":"# + quoted("false") + #","password":"# + quoted("null")
            + #","apikey" : "# + quoted("7") + " }")
    }

    @Test func keyWithoutValueIsLeftAlone() {
        let input = bytes(#"{"password":,"token":}"#)
        #expect(redactAll(input).output == input)
    }

    @Test func stringValueFingerprintMatchesTheValueRedactor() throws {
        for raw in ["hunter2", #"a\/b\n\u00e9\ud83d\ude00"#, ""] {
            let json = #"{"password":""# + raw + #""}"#
            let (out, _) = redactAll(bytes(json))
            let (value, _) = testRedactor.redact(json: try JSONParser.parse(json))
            #expect(text(out) == value.serialized())
            let decoded = try #require(try JSONParser.parse(#"""# + raw + #"""#).stringValue)
            #expect(value["password"] == .string(testRedactor.fingerprint(bytes(decoded))))
        }
    }

    @Test func unfinishedValuesAtFinish() {
        var stream = testRedactor.makeStreamRedactor()
        #expect(text(stream.feed(bytes(#"{"a":1,"token":"abc"#))) == #"{"a":1,"token":"#)
        #expect(text(stream.feed(bytes("def"))) == "")
        #expect(text(stream.finish()) == quoted("abcdef"))
        #expect(stream.redactions == 1)

        var object = testRedactor.makeStreamRedactor()
        #expect(text(object.feed(bytes(#"{"secret": {"x": [1, "#))) == #"{"secret": "#)
        #expect(text(object.finish()) == quoted(#"{"x": [1, "#))

        var scalar = testRedactor.makeStreamRedactor()
        #expect(text(scalar.feed(bytes(#"{"token":123"#)) + scalar.finish()) == #"{"token":"# + quoted("123"))
    }

    @Test func heldBackUntilTheValueEnds() {
        var stream = testRedactor.makeStreamRedactor()
        #expect(text(stream.feed(bytes(#"{"password":"hun"#))) == #"{"password":"#)
        #expect(text(stream.feed(bytes(#"ter2","next":"#))) == quoted("hunter2") + #","next":"#)
        #expect(text(stream.feed(bytes(#""visible"}"#))) == #""visible"}"#)
        #expect(stream.finish().isEmpty)
    }

    @Test func valuesLongerThanMaxValueBytesAreStillReplaced() {
        let secret = String(repeating: "s3cr3t-", count: 2_000)
        let input = bytes(#"{"token":""# + secret + #"","ok":1}"#)
        let (out, count) = redactAll(input, maxValueBytes: 64)
        #expect(count == 1)
        #expect(text(out) == #"{"token":"# + quoted(secret) + #","ok":1}"#)
        var stream = testRedactor.makeStreamRedactor(maxValueBytes: 64)
        var chunked: [UInt8] = []
        for piece in chunks(input, size: 100) { chunked += stream.feed(piece) }
        #expect(chunked + stream.finish() == out)
    }

    @Test func lineBreakEndsAnUnterminatedString() {
        let input = "data: {\"token\":\"abc\ndata: {\"x\":\"y\"}\n"
        let (out, _) = redactAll(bytes(input))
        #expect(text(out) == "data: {\"token\":\(quoted("abc"))\ndata: {\"x\":\"y\"}\n")
    }

    /// Strings are skipped eight bytes at a time: a quote, backslash or line break at any offset
    /// of a word must still be seen, whole or split anywhere.
    @Test(arguments: 0..<17)
    func stringsAreFollowedAtEveryOffsetOfAWord(padding: Int) {
        let pad = String(repeating: "a", count: padding)
        // An escaped key inside a long string is text, not a key; the member after it is one.
        let input = #"{"note":""# + pad + #"\"password\":\"x"# + pad + #"","password":"v"}"#
        let (out, count) = redactAll(bytes(input))
        #expect(count == 1)
        #expect(text(out) == #"{"note":""# + pad + #"\"password\":\"x"# + pad + #"","password":"# + quoted("v") + "}")
        for pieces in splittings(bytes(input)) { #expect(redactChunks(pieces) == out) }
        // A raw line break ends a string (SSE resynchronises there); the key after it is found.
        let broken = "data: {\"note\":\"" + pad + "\ndata: {\"token\":\"t\"}\n"
        let (brokenOut, brokenCount) = redactAll(bytes(broken))
        #expect(brokenCount == 1)
        #expect(text(brokenOut) == "data: {\"note\":\"" + pad + "\ndata: {\"token\":" + quoted("t") + "}\n")
    }

    @Test func keysAreMatchedWhateverTheirCaseAndOnlyWhole() {
        let input = #"{"PassWord":"a","passwordx":"b","xpassword":"c","API_KEY":"d","tokens":"e","id_TOKEN":"f"}"#
        let (out, count) = redactAll(bytes(input))
        #expect(count == 3)
        #expect(text(out) == #"{"PassWord":"# + quoted("a") + #","passwordx":"b","xpassword":"c","API_KEY":"# + quoted("d")
            + #","tokens":"e","id_TOKEN":"# + quoted("f") + "}")
        #expect(testRedactor.isRedactedKey("Client_Secret"))
        #expect(!testRedactor.isRedactedKey("client_secrets"))
        #expect(!testRedactor.isRedactedKey(""))
    }
}
