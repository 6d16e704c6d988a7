// SPDX-License-Identifier: GPL-2.0
/* pcim_request_region() */
#include <linux/pci.h>

int mmp_probe(struct pci_dev *pdev)
{
	return pcim_request_region(pdev, 0, "mmp");
}
