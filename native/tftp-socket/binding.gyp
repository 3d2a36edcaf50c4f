{
  "targets": [
    {
      "target_name": "tftp_socket",
      "include_dirs": ["../common"],
      "sources": ["tftp_socket.c"],
      "cflags": ["-Wall", "-Wextra", "-Werror"]
    }
  ]
}
