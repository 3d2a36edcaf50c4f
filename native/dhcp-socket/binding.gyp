{
  "targets": [
    {
      "target_name": "dhcp_socket",
      "include_dirs": ["../common"],
      "sources": ["dhcp_socket.c"],
      "cflags": ["-Wall", "-Wextra", "-Werror"]
    }
  ]
}
