{
  "targets": [
    {
      "target_name": "dhcp_socket",
      "sources": ["dhcp_socket.c"],
      "cflags": ["-Wall", "-Wextra", "-Werror"]
    }
  ]
}
