#include "vmm_shim/dev.h"

#include <errno.h>
#include <string.h>

int bus_add(struct bus *bus, uint64_t base, uint64_t len, const struct dev_ops *ops, void *dev)
{
	if (bus->n >= BUS_MAX_RANGES)
		return -ENOSPC;
	for (unsigned i = 0; i < bus->n; i++)
		if (base < bus->r[i].base + bus->r[i].len && bus->r[i].base < base + len)
			return -EBUSY;
	bus->r[bus->n++] = (struct bus_range){.base = base, .len = len, .ops = ops, .dev = dev};
	return 0;
}

static const struct bus_range *bus_find(const struct bus *bus, uint64_t addr)
{
	for (unsigned i = 0; i < bus->n; i++)
		if (addr >= bus->r[i].base && addr - bus->r[i].base < bus->r[i].len)
			return &bus->r[i];
	return NULL;
}

bool bus_read(const struct bus *bus, uint64_t addr, uint8_t *data, unsigned size)
{
	const struct bus_range *r = bus_find(bus, addr);

	if (!r || !r->ops->read) {
		memset(data, 0xff, size);
		return false;
	}
	r->ops->read(r->dev, addr - r->base, data, size);
	return true;
}

bool bus_write(const struct bus *bus, uint64_t addr, const uint8_t *data, unsigned size)
{
	const struct bus_range *r = bus_find(bus, addr);

	if (!r || !r->ops->write)
		return false;
	r->ops->write(r->dev, addr - r->base, data, size);
	return true;
}

const char *bus_name(const struct bus *bus, uint64_t addr)
{
	const struct bus_range *r = bus_find(bus, addr);

	return r ? r->ops->name : NULL;
}
