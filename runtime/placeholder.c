// placeholder: removed once runtime sources land
typedef int lb_runtime_placeholder_t;
