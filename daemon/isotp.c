/* SPDX-License-Identifier: MIT */
/*
 * isotp.c - ISO 15765-2 reassembly per sender id.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "isotp.h"

#define PCI_SF		0x0
#define PCI_FF		0x1
#define PCI_CF		0x2
#define PCI_FC		0x3
#define SF_MAX		7	/* classic CAN single frame payload */
#define FF_DATA		6	/* payload bytes in a first frame */
#define CF_DATA		7	/* payload bytes in a consecutive frame */
#define SN_MASK		0x0f
#define OBD_RESP_11_LO	0x7e8u
#define OBD_RESP_11_HI	0x7efu
#define OBD_RESP_29	0x18daf100u
#define OBD_REQ_29	0x18da00f1u
#define FC_11_OFFSET	8	/* ISO 15765-4: response id = request + 8 */

void
isotp_rx_reset(struct isotp_rx *rx, size_t max_len)
{
	size_t	i;

	if (max_len == 0 || max_len > ISOTP_MAX_LEN)
		max_len = ISOTP_MAX_LEN;
	rx->max_len = max_len;
	rx->done = 0;
	for (i = 0; i < ISOTP_MAX_SENDERS; i++) {
		rx->slot[i].busy = 0;
		rx->slot[i].id = 0;
		rx->slot[i].want = rx->slot[i].have = 0;
		rx->slot[i].next_sn = 0;
	}
}

static struct isotp_slot *
find_slot(struct isotp_rx *rx, uint32_t id)
{
	size_t	i;

	for (i = 0; i < ISOTP_MAX_SENDERS; i++)
		if (rx->slot[i].busy && rx->slot[i].id == id)
			return &rx->slot[i];
	return NULL;
}

static struct isotp_slot *
free_slot(struct isotp_rx *rx)
{
	size_t	i;

	for (i = 0; i < ISOTP_MAX_SENDERS; i++)
		if (!rx->slot[i].busy)
			return &rx->slot[i];
	return NULL;
}

static void
drop(struct isotp_slot *s)
{
	if (s != NULL)
		s->busy = 0;
}

static enum isotp_result
feed_ff(struct isotp_rx *rx, uint32_t id, const uint8_t *data, size_t dlc,
    struct isotp_slot *s)
{
	size_t	 want;

	drop(s);
	if (dlc < ISOTP_FRAME_LEN)
		return ISOTP_ERR_SHORT;
	want = ((size_t)(data[0] & 0x0f) << 8) | data[1];
	if (want == 0)
		/* Escape: 32-bit length, only used above 4095 bytes. */
		return ISOTP_ERR_TOO_LONG;
	if (want > rx->max_len)
		return ISOTP_ERR_TOO_LONG;
	if (want <= SF_MAX)
		return ISOTP_ERR_LENGTH;
	if ((s = free_slot(rx)) == NULL)
		return ISOTP_ERR_NO_SLOT;
	s->busy = 1;
	s->id = id;
	s->want = want;
	memcpy(s->buf, data + 2, FF_DATA);
	s->have = FF_DATA;
	s->next_sn = 1;
	return ISOTP_FIRST_FRAME;
}

static enum isotp_result
feed_cf(struct isotp_rx *rx, const uint8_t *data, size_t dlc,
    struct isotp_slot *s, struct isotp_msg *msg)
{
	size_t	 n, left;

	if (s == NULL)
		return ISOTP_ERR_UNEXPECTED_CF;
	if ((data[0] & SN_MASK) != s->next_sn) {
		drop(s);
		return ISOTP_ERR_SEQUENCE;
	}
	left = s->want - s->have;
	n = dlc - 1;
	if (n < left && n < CF_DATA) {
		/* Only the last CF may be shorter than the frame. */
		drop(s);
		return ISOTP_ERR_SHORT;
	}
	if (n > left)
		n = left;	/* the rest is padding */
	memcpy(s->buf + s->have, data + 1, n);
	s->have += n;
	s->next_sn = (s->next_sn + 1) & SN_MASK;
	if (s->have < s->want)
		return ISOTP_NONE;
	msg->id = s->id;
	msg->data = s->buf;
	msg->len = s->have;
	/* Keep the buffer until the next feed: the message borrows it. */
	rx->done = (size_t)(s - rx->slot) + 1;
	return ISOTP_MESSAGE;
}

enum isotp_result
isotp_rx_feed(struct isotp_rx *rx, uint32_t id, const uint8_t *data,
    size_t dlc, struct isotp_msg *msg)
{
	struct isotp_slot	*s;
	size_t			 len;

	if (rx->done != 0) {
		rx->slot[rx->done - 1].busy = 0;
		rx->done = 0;
	}
	if (dlc == 0 || dlc > ISOTP_FRAME_LEN || data == NULL)
		return ISOTP_ERR_SHORT;
	s = find_slot(rx, id);
	switch (data[0] >> 4) {
	case PCI_SF:
		drop(s);
		len = data[0] & 0x0f;
		if (len == 0 || len > SF_MAX || len > dlc - 1)
			return ISOTP_ERR_LENGTH;
		memcpy(rx->sf, data + 1, len);
		msg->id = id;
		msg->data = rx->sf;
		msg->len = len;
		return ISOTP_MESSAGE;
	case PCI_FF:
		return feed_ff(rx, id, data, dlc, s);
	case PCI_CF:
		return feed_cf(rx, data, dlc, s, msg);
	case PCI_FC:
		return ISOTP_FLOW_CONTROL;
	default:
		return ISOTP_ERR_BAD_PCI;
	}
}

size_t
isotp_rx_pending(const struct isotp_rx *rx)
{
	size_t	i, n = 0;

	for (i = 0; i < ISOTP_MAX_SENDERS; i++)
		if (rx->slot[i].busy && rx->done != i + 1)
			n++;
	return n;
}

int
isotp_rx_drop(struct isotp_rx *rx, uint32_t id)
{
	struct isotp_slot	*s;

	if ((s = find_slot(rx, id)) == NULL)
		return -1;
	drop(s);
	return 0;
}

const char *
isotp_result_str(enum isotp_result r)
{
	switch (r) {
	case ISOTP_NONE:		return "none";
	case ISOTP_MESSAGE:		return "message";
	case ISOTP_FIRST_FRAME:		return "first frame";
	case ISOTP_FLOW_CONTROL:	return "flow control";
	case ISOTP_ERR_SEQUENCE:	return "wrong sequence number";
	case ISOTP_ERR_UNEXPECTED_CF:	return "unexpected consecutive frame";
	case ISOTP_ERR_LENGTH:		return "invalid length";
	case ISOTP_ERR_SHORT:		return "frame too short";
	case ISOTP_ERR_TOO_LONG:	return "message too long";
	case ISOTP_ERR_BAD_PCI:		return "invalid pci";
	case ISOTP_ERR_NO_SLOT:		return "too many senders";
	}
	return "unknown";
}

int
isotp_is_obd_response(uint32_t id)
{
	if (id & ISOTP_ID_EFF)
		return ((id & ISOTP_ID_MASK) & 0x1fffff00u) == OBD_RESP_29;
	return id >= OBD_RESP_11_LO && id <= OBD_RESP_11_HI;
}

int
isotp_encode_sf(const uint8_t *payload, size_t len, uint8_t pad,
    uint8_t frame[ISOTP_FRAME_LEN])
{
	if (len == 0 || len > SF_MAX || payload == NULL)
		return -1;
	memset(frame, pad, ISOTP_FRAME_LEN);
	frame[0] = (uint8_t)(PCI_SF << 4 | len);
	memcpy(frame + 1, payload, len);
	return 0;
}

void
isotp_encode_fc(uint8_t pad, uint8_t frame[ISOTP_FRAME_LEN])
{
	memset(frame, pad, ISOTP_FRAME_LEN);
	frame[0] = PCI_FC << 4;		/* continue to send */
	frame[1] = 0;			/* block size: no limit */
	frame[2] = 0;			/* STmin 0 ms */
}

int
isotp_fc_id(uint32_t rx_id, uint32_t *tx_id)
{
	if (!isotp_is_obd_response(rx_id))
		return -1;
	if (rx_id & ISOTP_ID_EFF)
		*tx_id = ISOTP_ID_EFF | OBD_REQ_29 | (rx_id & 0xff) << 8;
	else
		*tx_id = rx_id - FC_11_OFFSET;
	return 0;
}
