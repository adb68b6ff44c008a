/// A set of a connection's sides, without hashing (checked on every step).
struct SideSet {
    private var client = false
    private var server = false

    var isEmpty: Bool { !client && !server }

    func contains(_ side: ProxyConnection.Side) -> Bool { side == .client ? client : server }

    mutating func insert(_ side: ProxyConnection.Side) { set(side, true) }

    mutating func remove(_ side: ProxyConnection.Side) { set(side, false) }

    private mutating func set(_ side: ProxyConnection.Side, _ value: Bool) {
        if side == .client { client = value } else { server = value }
    }
}

/// One value for each side of a connection, without hashing.
struct PerSide<Value> {
    var client: Value
    var server: Value

    subscript(side: ProxyConnection.Side) -> Value {
        get { side == .client ? client : server }
        _modify {
            if side == .client { yield &client } else { yield &server }
        }
        set {
            if side == .client { client = newValue } else { server = newValue }
        }
    }
}
