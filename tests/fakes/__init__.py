"""Local stand-ins for the providers' APIs (Graph API, Bot API, Twilio REST), served on loopback sockets."""
