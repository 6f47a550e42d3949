//! The read model: every offer as its events built it, by id and in creation order (the kit's
//! [`capmatch_service::Entities`] over the offer aggregate).

use crate::aggregate::Offers;

pub type OffersView = capmatch_service::Entities<Offers>;
