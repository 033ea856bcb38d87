// Line and event types that are understood and deliberately carry nothing for the trace.
// Anything not here and not decoded becomes a counted warning.

export const IGNORED_LINE_TYPES = new Set([
  'world_state',
  'security_risk_score',
  'inter_agent_communication',
  'inter_agent_communication_metadata',
  'token_usage_record',
]);

export const IGNORED_RESPONSE_ITEMS = new Set([
  'ghost_snapshot',
  'compaction',
  'compaction_summary',
  'context_compaction',
  'agent_message',
  'other',
]);

export const IGNORED_EVENT_MSGS = new Set([
  'warning', 'guardian_warning', 'realtime_conversation_started', 'realtime_conversation_realtime',
  'realtime_conversation_closed', 'realtime_conversation_sdp', 'model_reroute', 'model_verification',
  'turn_moderation_metadata', 'safety_buffering', 'agent_reasoning_section_break', 'session_configured',
  'environment_connected', 'environment_disconnected', 'thread_goal_updated', 'thread_queue_changed',
  'mcp_startup_update', 'mcp_startup_complete', 'mcp_tool_call_begin', 'web_search_begin',
  'image_generation_begin', 'exec_command_begin', 'exec_command_output_delta', 'terminal_interaction',
  'exec_approval_request', 'request_permissions', 'request_user_input', 'dynamic_tool_call_request',
  'elicitation_request', 'apply_patch_approval_request', 'guardian_assessment', 'deprecation_notice',
  'stream_error', 'patch_apply_begin', 'patch_apply_updated', 'turn_diff',
  'realtime_conversation_list_voices_response', 'plan_update', 'shutdown_complete', 'raw_response_item',
  'raw_response_completed', 'item_started', 'hook_started', 'hook_completed', 'agent_message_content_delta',
  'plan_delta', 'reasoning_content_delta', 'reasoning_raw_content_delta', 'collab_agent_spawn_begin',
  'collab_agent_interaction_begin', 'collab_waiting_begin', 'collab_close_begin', 'collab_resume_begin',
  'agent_message_delta', 'agent_reasoning_delta', 'agent_reasoning_raw_content_delta', 'background_event',
  'get_history_entry_response', 'mcp_list_tools_response', 'list_custom_prompts_response',
  'list_skills_response', 'list_remote_skills_response', 'remote_skill_downloaded', 'skills_update_available',
  'conversation_history', 'undo_started', 'token_usage_record',
]);
