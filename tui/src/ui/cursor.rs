//! A selection in a list and the scroll position that keeps it on screen.
//! The scroll position is settled while drawing (only the view knows how
//! tall the list is), hence the `Cell`s: views take the app by `&`.

use std::cell::Cell;

#[derive(Debug, Default, Clone)]
pub struct Cursor {
    pub selected: usize,
    offset: Cell<usize>,
    /// Rows visible when last drawn; pages move by this much.
    page: Cell<usize>,
}

impl Cursor {
    /// Moves by `delta` rows within `len` rows.
    pub fn step(&mut self, delta: isize, len: usize) {
        let last = len.saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, last.max(0)) as usize;
    }

    pub fn page(&self) -> isize {
        self.page.get().max(1) as isize
    }

    pub fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
    }

    pub fn reset(&mut self) {
        self.selected = 0;
        self.offset.set(0);
    }

    /// The first visible row for a list of `len` rows shown `height` at a
    /// time, moved only as far as needed to keep the selection visible.
    pub fn window(&self, height: usize, len: usize) -> usize {
        self.page.set(height);
        let height = height.max(1);
        let mut offset = self.offset.get().min(len.saturating_sub(height));
        if self.selected < offset {
            offset = self.selected;
        } else if self.selected >= offset + height {
            offset = self.selected + 1 - height;
        }
        self.offset.set(offset);
        offset
    }
}
