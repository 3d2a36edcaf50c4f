{
  "targets": [
    {
      "target_name": "sparse_file",
      "include_dirs": ["../common"],
      "sources": ["sparse_file.c"],
      "cflags": ["-Wall", "-Wextra", "-Werror"]
    }
  ]
}
