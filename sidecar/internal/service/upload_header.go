package service

import "connectrpc.com/connect"

// uploadHeader receives the first message of an upload stream, which must
// carry the header (header extracts it; what names the header's subject).
func uploadHeader[Req, Header any](stream *connect.ClientStream[Req], header func(*Req) *Header, what string) (*Header, error) {
	if stream.Receive() {
		if h := header(stream.Msg()); h != nil {
			return h, nil
		}
	} else if err := stream.Err(); err != nil {
		return nil, err
	}
	return nil, invalid("the first message must be a header with the " + what)
}
