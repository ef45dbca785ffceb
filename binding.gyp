{
  "targets": [
    {
      "target_name": "sockets",
      "sources": ["native/sockets.c"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
