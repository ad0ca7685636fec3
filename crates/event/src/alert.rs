//! The alert model: what detection raises and every sink writes. (Owned by the detection work.)
