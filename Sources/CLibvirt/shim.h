#ifndef KSAND_CLIBVIRT_SHIM_H
#define KSAND_CLIBVIRT_SHIM_H
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#endif
