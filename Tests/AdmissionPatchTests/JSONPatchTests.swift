import RecorderJSON
import Testing

@testable import AdmissionPatch

private func json(_ text: String) -> JSONValue {
    try! JSONParser.parse(text)
}

@Suite struct JSONPointerTests {
    @Test func escapesTildeAndSlash() {
        #expect(JSONPointer.escape("mcp-recorder.io/status") == "mcp-recorder.io~1status")
        #expect(JSONPointer.escape("a~b/c") == "a~0b~1c")
        #expect(JSONPointer.escape("~1") == "~01")
        #expect(JSONPointer.escape("plain") == "plain")
        #expect(JSONPointer.encode(["metadata", "annotations", "mcp-recorder.io/inject"]) == "/metadata/annotations/mcp-recorder.io~1inject")
        #expect(JSONPointer.encode([]) == "")
        #expect(JSONPointer.encode([""]) == "/")
    }

    @Test func decodesWhatItEncodes() throws {
        for tokens in [["a/b", "~", "~1", "x~0y"], [""], ["metadata", "annotations", "kubectl.kubernetes.io/default-container"], []] {
            #expect(try JSONPointer.decode(JSONPointer.encode(tokens)) == tokens)
        }
        // ~01 is "~1", not "/".
        #expect(try JSONPointer.decode("/~01") == ["~1"])
    }

    @Test func rejectsMalformedPointers() {
        #expect(throws: JSONPatchError.self) { try JSONPointer.decode("a/b") }
        #expect(throws: JSONPatchError.self) { try JSONPointer.decode("/a~2") }
        #expect(throws: JSONPatchError.self) { try JSONPointer.decode("/a~") }
    }
}

@Suite struct JSONPatchTests {
    @Test func addAppendsNewMembersAndReplacesExistingInPlace() throws {
        let doc = json(#"{"a":1,"b":2}"#)
        let out = try JSONPatch.apply([json(#"{"op":"add","path":"/c","value":3}"#), json(#"{"op":"add","path":"/a","value":9}"#)], to: doc)
        #expect(out.serialized() == #"{"a":9,"b":2,"c":3}"#)
    }

    @Test func arrayInsertAppendAndBounds() throws {
        let doc = json(#"{"l":[1,2]}"#)
        let out = try JSONPatch.apply([
            json(#"{"op":"add","path":"/l/0","value":0}"#),
            json(#"{"op":"add","path":"/l/-","value":3}"#),
            json(#"{"op":"add","path":"/l/4","value":4}"#),
        ], to: doc)
        #expect(out.serialized() == #"{"l":[0,1,2,3,4]}"#)
        #expect(throws: JSONPatchError.self) { try JSONPatch.apply([json(#"{"op":"add","path":"/l/3","value":0}"#)], to: doc) }
        #expect(throws: JSONPatchError.self) { try JSONPatch.apply([json(#"{"op":"add","path":"/l/01","value":0}"#)], to: doc) }
    }

    @Test func removeReplaceMoveCopyTest() throws {
        let doc = json(#"{"a":{"x":1,"y":[1,2]},"b":"s"}"#)
        let out = try JSONPatch.apply([
            json(#"{"op":"test","path":"/a","value":{"y":[1,2],"x":1.0}}"#),
            json(#"{"op":"remove","path":"/a/y/0"}"#),
            json(#"{"op":"replace","path":"/b","value":"t"}"#),
            json(#"{"op":"copy","from":"/b","path":"/c"}"#),
            json(#"{"op":"move","from":"/a/x","path":"/d"}"#),
        ], to: doc)
        #expect(out.serialized() == #"{"a":{"y":[2]},"b":"t","c":"t","d":1}"#)
    }

    @Test func failuresAreReported() {
        let doc = json(#"{"a":{}}"#)
        for bad in [
            #"{"op":"replace","path":"/missing","value":1}"#,
            #"{"op":"remove","path":"/missing"}"#,
            #"{"op":"add","path":"/missing/child","value":1}"#,
            #"{"op":"test","path":"/a","value":[]}"#,
            #"{"op":"move","from":"/a","path":"/a/b"}"#,
            #"{"op":"frobnicate","path":"/a"}"#,
            #"{"path":"/a"}"#,
        ] {
            #expect(throws: JSONPatchError.self, "\(bad)") { try JSONPatch.apply([json(bad)], to: doc) }
        }
    }

    @Test func escapedPathsReachKeysWithSlashes() throws {
        let doc = json(#"{"metadata":{"annotations":{"a/b":"1","c~d":"2"}}}"#)
        let out = try JSONPatch.apply([
            json(#"{"op":"replace","path":"/metadata/annotations/a~1b","value":"x"}"#),
            json(#"{"op":"remove","path":"/metadata/annotations/c~0d"}"#),
            json(#"{"op":"add","path":"/metadata/annotations/mcp-recorder.io~1status","value":"{}"}"#),
        ], to: doc)
        #expect(out.serialized() == #"{"metadata":{"annotations":{"a/b":"x","mcp-recorder.io/status":"{}"}}}"#)
    }

    @Test func patchBuilderCreatesMissingContainers() throws {
        var builder = PatchBuilder(json(#"{"spec":{"containers":[]}}"#))
        builder.set(["metadata", "annotations", "mcp-recorder.io/status"], "x")
        builder.set(["metadata", "annotations", "other"], "y")
        builder.append(["spec", "volumes"], ["name": "a"])
        builder.append(["spec", "volumes"], ["name": "b"])
        builder.insert(["spec", "initContainers"], at: 0, ["name": "i"])
        let paths = builder.operations.map { $0["op"]!.stringValue! + " " + $0["path"]!.stringValue! }
        #expect(paths == [
            "add /metadata",
            "add /metadata/annotations/other",
            "add /spec/volumes",
            "add /spec/volumes/-",
            "add /spec/initContainers",
        ])
        #expect(builder.operations[0]["value"]?.serialized() == #"{"annotations":{"mcp-recorder.io/status":"x"}}"#)
        // The recorded operations rebuild the builder's document from the original.
        #expect(try JSONPatch.apply(builder.operations, to: json(#"{"spec":{"containers":[]}}"#)) == builder.document)
    }

    @Test func patchBuilderTreatsNullAsMissing() throws {
        var builder = PatchBuilder(json(#"{"metadata":{"annotations":null},"spec":{"volumes":null}}"#))
        builder.set(["metadata", "annotations", "k"], "v")
        builder.append(["spec", "volumes"], ["name": "a"])
        #expect(builder.document.serialized() == #"{"metadata":{"annotations":{"k":"v"}},"spec":{"volumes":[{"name":"a"}]}}"#)
    }

    @Test func removeMemberDropsAnEmptiedObject() {
        var builder = PatchBuilder(json(#"{"m":{"a":{"k":"v"},"b":{"k":"v","l":"w"}}}"#))
        builder.removeMember(["m", "a"], "k")
        builder.removeMember(["m", "b"], "k")
        builder.removeMember(["m", "b"], "absent")
        #expect(builder.document.serialized() == #"{"m":{"b":{"l":"w"}}}"#)
    }
}
