//! LevelDB log framing.
pub fn is_wandb_header(head: &[u8]) -> bool {
    head.len() >= 7 && &head[..4] == b":W&B" && head[4..6] == [0xe1, 0xbe]
}
