//! The read model: every need as its events built it, by id and in creation order (the kit's
//! [`capmatch_service::Entities`] over the need aggregate).

use crate::aggregate::Needs;

pub type NeedsView = capmatch_service::Entities<Needs>;
