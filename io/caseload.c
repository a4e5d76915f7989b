/* Case loading with the same-grid check (see caseload.h). */
#include "io/caseload.h"
#include "io/util.h"
#include <string.h>

int io_case_load(const io_case *c, io_volume vols[IO_NDOMAINS], char *err, size_t errlen) {
    memset(vols, 0, sizeof(io_volume) * IO_NDOMAINS);
    char e[1024];
    for (int d = 0; d < IO_NDOMAINS; d++)
        if (!c->path[d]) return io_err(err, errlen, "case %s: no %s file", c->id, io_domain_name(d));
    if (c->channel[0] >= 0) {
        /* one 4-D file: read once, split by channel */
        if (io_volume_read_channels(c->path[0], IO_NDOMAINS, c->channel, vols, e, sizeof e) != 0)
            return io_err(err, errlen, "case %s: %s", c->id, e);
        return 0;
    }
    for (int d = 0; d < IO_NDOMAINS; d++) {
        if (io_volume_read(c->path[d], &vols[d], e, sizeof e) != 0) {
            io_case_volumes_free(vols);
            return io_err(err, errlen, "case %s: %s", c->id, e);
        }
        char what[256];
        if (d > 0 && io_geom_compare(&vols[0].geom, &vols[d].geom, what, sizeof what) != 0) {
            io_err(err, errlen, "case %s: %s is not on the same grid as %s: %s", c->id, c->path[d], c->path[0], what);
            io_case_volumes_free(vols);
            return -1;
        }
    }
    return 0;
}

void io_case_volumes_free(io_volume vols[IO_NDOMAINS]) {
    for (int d = 0; d < IO_NDOMAINS; d++) io_volume_free(&vols[d]);
}
