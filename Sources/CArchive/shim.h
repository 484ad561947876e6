#ifndef KSAND_CARCHIVE_SHIM_H
#define KSAND_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#endif
