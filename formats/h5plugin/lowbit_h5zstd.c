// lowbit_h5zstd.c: lowbit's zstd filter (id 32015, formats/h5_zstd_filter.c) as a dynamically
// loaded HDF5 plugin, so programs that are not lowbit (h5py, h5dump, h5ls -d) read our token
// and logit stores: HDF5_PLUGIN_PATH=<dir holding liblowbit_h5zstd.so>. Debian's
// python3-hdf5plugin has no zstd filter; PyPI's hdf5plugin reads the same frames.
#include <H5PLextern.h>
#include "h5_zstd.h"

H5PL_type_t H5PLget_plugin_type(void) { return H5PL_TYPE_FILTER; }
const void *H5PLget_plugin_info(void) { return &lb_h5_zstd_class; }
