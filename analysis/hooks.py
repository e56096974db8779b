"""What the analysis announces to later stages (subscribers are declared in
config/flow.py), once the change is committed."""

from core.hooks import Hook

# One of our conversations' mistakes were clustered (all of its batches are analysed);
# called with the conversation's id.
conversation_clustered = Hook("conversation clustered")

# An external conversation's mistakes were clustered (into its own clusters and the
# learner's, across every source); called with the external conversation's id.
external_conversation_clustered = Hook("external conversation clustered")
