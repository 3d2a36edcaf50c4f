{
  "targets": [
    {
      "target_name": "tftp_socket",
      "sources": ["tftp_socket.c"],
      "cflags": ["-Wall", "-Wextra", "-Werror"]
    }
  ]
}
