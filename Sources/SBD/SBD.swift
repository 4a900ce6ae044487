public enum SBDPlaceholder {}
