import NIOHTTP1

typealias NIOHTTP1Status = HTTPResponseStatus
