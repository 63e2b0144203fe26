package fileshare

import "context"

// Spill thresholds; the format's bounds are the constants, tests lower these
// to exercise multi-list files without writing gigabytes.
var (
	inlineExtents = inlineExtentMax
	listExtents   = listMaxExtents
)

// addExtent appends x; every listMaxExtents extents are sealed into an
// extent-list object so a huge file never holds its whole map in memory.
func (r *fileReader) addExtent(ctx context.Context, d *fileData, x Extent) error {
	d.extents = append(d.extents, x)
	if len(d.extents) < listExtents {
		return nil
	}
	return r.sealList(ctx, d)
}

func (r *fileReader) sealList(ctx context.Context, d *fileData) error {
	id, err := r.b.put(ctx, encodeExtentList(d.extents))
	if err != nil {
		return err
	}
	d.lists = append(d.lists, listRef{First: d.extents[0].Off, Count: uint32(len(d.extents)), ID: id})
	d.extents = d.extents[:0]
	return nil
}

// finishLists keeps a short map inline in the entry and seals the rest.
func (r *fileReader) finishLists(ctx context.Context, d *fileData) error {
	if len(d.lists) == 0 && len(d.extents) <= inlineExtents {
		return nil
	}
	if len(d.extents) > 0 {
		if err := r.sealList(ctx, d); err != nil {
			return err
		}
	}
	d.extents = nil
	return nil
}
